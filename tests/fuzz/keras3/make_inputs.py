#!/usr/bin/python3
"""Hand-made hazards for fuzz_keras3 (a tiny stored zip, then broken):

    /usr/bin/python3 tests/fuzz/keras3/make_inputs.py

  dir_past_end        the central directory's offset past the file's end
  zip64_no_locator    the end record says zip64 (0xFFFFFFFF) with no locator before it
  name_past_end       a central entry whose name length runs past the file
  member_past_end     a member whose size runs past the file
  config_not_json     a valid archive whose config.json is not JSON
"""
import io
import os
import struct
import zipfile

here = os.path.dirname(os.path.abspath(__file__))


def archive(config=b'{"class_name": "Sequential", "config": {"layers": []}}'):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", config)
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    return bytearray(buf.getvalue())


def end_record(b):
    return b.rfind(b"PK\x05\x06")


def save(name, b):
    with open(os.path.join(here, name), "wb") as f:
        f.write(bytes(b))


b = archive()
e = end_record(b)
struct.pack_into("<I", b, e + 16, len(b) + 1000)
save("dir_past_end", b)

b = archive()
struct.pack_into("<I", b, end_record(b) + 16, 0xFFFFFFFF)
save("zip64_no_locator", b)

b = archive()
cd = struct.unpack_from("<I", b, end_record(b) + 16)[0]
struct.pack_into("<H", b, cd + 28, 0xFFFF)
save("name_past_end", b)

b = archive()
cd = struct.unpack_from("<I", b, end_record(b) + 16)[0]
struct.pack_into("<I", b, cd + 20, 0x7FFFFFFF)
struct.pack_into("<I", b, cd + 24, 0x7FFFFFFF)
save("member_past_end", b)

save("config_not_json", archive(b"{not json"))
