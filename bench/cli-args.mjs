// The bench scripts' command line: `--name value` options and bare flags.
const argv = process.argv.slice(2);

/** The value after `--name`, or `fallback` when the option is absent. */
export function option(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
}

/** Whether the bare flag `--name` was given. */
export function flag(name) {
  return argv.includes(`--${name}`);
}
