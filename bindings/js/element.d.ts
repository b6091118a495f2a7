/** The iframe URL for a <cnn-playground> element's attributes. */
export function playgroundUrl(base: string, attrs: {
  sections?: string | null; preset?: string | null; session?: string | null; persist?: string | null;
}): string;

/** <cnn-playground src sections preset session persist height>: the playground page in an iframe. */
export class CnnPlaygroundElement extends HTMLElement {
  readonly frame: HTMLIFrameElement;
}
