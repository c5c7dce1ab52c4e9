"""The zip record layouts (APPNOTE.TXT 4.3), written once for the writer and the reader."""

from __future__ import annotations

import struct

#: local file header
LFH = struct.Struct("<IHHHHHIIIHH")
LFH_SIG = 0x04034B50
#: central directory file header
CDH = struct.Struct("<IHHHHHHIIIHHHHHII")
CDH_SIG = 0x02014B50
#: end of central directory record
EOCD = struct.Struct("<IHHHHIIH")
EOCD_SIG = 0x06054B50
#: zip64 end of central directory record, and its locator
EOCD64 = struct.Struct("<IQHHIIQQQQ")
EOCD64_SIG = 0x06064B50
EOCD64_LOCATOR = struct.Struct("<IIQI")
EOCD64_LOCATOR_SIG = 0x07064B50

#: the same signatures as they appear in the file
LFH_MAGIC = struct.pack("<I", LFH_SIG)  # b"PK\x03\x04"
CDH_MAGIC = struct.pack("<I", CDH_SIG)  # b"PK\x01\x02"
EOCD_MAGIC = struct.pack("<I", EOCD_SIG)  # b"PK\x05\x06"
EOCD64_MAGIC = struct.pack("<I", EOCD64_SIG)  # b"PK\x06\x06"
EOCD64_LOCATOR_MAGIC = struct.pack("<I", EOCD64_LOCATOR_SIG)  # b"PK\x06\x07"
