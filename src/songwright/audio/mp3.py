"""MP3 (LAME, through lameenc), encoded on two cores at once and spliced into one stream.

LAME makes each frame of 1152 samples from the samples around it, and a frame's data may begin
up to 511 bytes back, in room the frames before it left (the bit reservoir). A song is cut into
parts on the frame grid, the same cut on every machine (`part_cuts`), and the parts are encoded
side by side (lameenc lets go of the GIL): each part after the first from WARM_UP_FRAMES frames
before its cut (its encoder has heard what leads into it), each part before the last on for
SEARCH_FRAMES frames past its end. Where two parts meet, the stream keeps the earlier part's
frames up to a junction and the later part's from there, at the first frame past the cut where

- the bytes the later part's junction frame begins its data in (its reservoir) fit in the room
  the earlier part leaves after its last kept frame's data, and
- both encoders chose the same blocks (long, start, short, stop) for the granule before the
  junction, so the overlapping halves of the transform cancel across it as inside one stream.

Those reservoir bytes are copied into that room: every frame's data is LAME's own, byte for
byte, at the place its encoder put it relative to its frame. Up to the first junction the
stream is one encoder's to the byte; after it, each part is an encoding of the same samples
(tests/test_mp3.py decodes both). A junction without such a frame (none seen) falls back to
one encoder for the whole song.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .io import pcm16

BITRATE_KBPS = 192
QUALITY = 5  # LAME's -q: 2 is slower and barely different at 192 kbps
FRAME_SAMPLES = 1152  # an MPEG-1 Layer III frame
PART_S = 60.0  # the most audio one part holds; a song has an even number of parts (two cores' worth)
MIN_SPLIT_S = 10.0  # shorter audio is encoded whole
WARM_UP_FRAMES = 16  # frames a part's encoder hears before its cut
SEARCH_FRAMES = 32  # frames past its end a part goes on for: where its junction may fall
SETTLED_FRAMES = 4  # an encoder's last frames hear the silence its flush pads with: no junction there
ENCODE_BLOCK = 8192  # samples converted to 16-bit and handed to LAME at a time

_BITRATES_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_SAMPLE_RATES = (44100, 48000, 32000)
_GRANULE_FIELD_BITS = 59  # one granule of one channel in the side information


def encode_mp3(audio: np.ndarray, sample_rate: int) -> bytes:
    """(samples, channels) float audio (one or two channels) as a BITRATE_KBPS MP3."""
    cuts = part_cuts(samples=len(audio), sample_rate=sample_rate)
    if len(cuts) == 2 or sample_rate not in _SAMPLE_RATES:  # (other rates make MPEG-2 frames: not spliced)
        return _encoded(audio, sample_rate)
    pieces = [(cut - (WARM_UP_FRAMES * FRAME_SAMPLES if part else 0),
               min(len(audio), end + SEARCH_FRAMES * FRAME_SAMPLES)) for part, (cut, end) in enumerate(zip(cuts, cuts[1:]))]
    with ThreadPoolExecutor(max_workers=min(len(pieces), os.cpu_count() or 1)) as pool:
        streams = list(pool.map(lambda piece: _encoded(audio[piece[0]:piece[1]], sample_rate), pieces))
    spliced = _spliced(streams, first_frames=[start // FRAME_SAMPLES for start, _ in pieces],
                       cut_frames=[cut // FRAME_SAMPLES for cut in cuts[1:-1]])
    return spliced if spliced is not None else _encoded(audio, sample_rate)


def part_cuts(*, samples: int, sample_rate: int) -> list[int]:
    """Where each part of `samples` of audio begins, on the frame grid, and the end: an even
    number of parts of at most PART_S (one part under MIN_SPLIT_S)."""
    duration_s = samples / sample_rate
    if duration_s < MIN_SPLIT_S:
        return [0, samples]
    parts = 2 * math.ceil(duration_s / (2 * PART_S))
    frames = samples // FRAME_SAMPLES
    return [0] + [round(frames * part / parts) * FRAME_SAMPLES for part in range(1, parts)] + [samples]


def _encoded(audio: np.ndarray, sample_rate: int) -> bytes:
    """One LAME encoder over the whole of `audio`, ENCODE_BLOCK samples at a time (the same bytes
    as one call)."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(audio.shape[1])
    encoder.set_quality(QUALITY)
    encoded = bytearray()
    for start in range(0, len(audio), ENCODE_BLOCK):
        encoded += encoder.encode(pcm16(audio[start:start + ENCODE_BLOCK]).astype("<i2").tobytes())
    return bytes(encoded + encoder.flush())


@dataclass(frozen=True)
class _Frame:
    offset: int  # where its header starts in its stream
    size: int  # bytes: header, side information and payload
    side: int  # bytes of side information (17 mono, 32 stereo)

    @property
    def payload(self) -> int:
        """The bytes after its header and side information, where frames' data go."""
        return self.size - 4 - self.side


@dataclass(frozen=True)
class _SideInfo:
    data_begin: int  # main_data_begin: its data begin this many payload bytes before its payload
    data_bytes: int  # its data (scale factors and Huffman codes of both granules), whole bytes
    last_blocks: tuple[tuple[int, int, int], ...]  # per channel, its second granule's (switching, block type, mixed)


def _frames(stream: bytes) -> list[_Frame] | None:
    """The frames of a stream, or None unless it is all MPEG-1 Layer III frames without CRC
    (the only kind spliced)."""
    frames, offset = [], 0
    while offset < len(stream):
        header = stream[offset:offset + 4]
        if len(header) < 4 or header[0] != 0xFF or header[1] != 0xFB:
            return None
        bitrate, rate = header[2] >> 4, (header[2] >> 2) & 3
        if not 0 < bitrate < len(_BITRATES_KBPS) or rate == 3:
            return None
        size = 144000 * _BITRATES_KBPS[bitrate] // _SAMPLE_RATES[rate] + ((header[2] >> 1) & 1)
        frames.append(_Frame(offset, size, 17 if header[3] >> 6 == 3 else 32))
        offset += size
    return frames if offset == len(stream) else None


def _side_info(stream: bytes, frame: _Frame) -> _SideInfo:
    """The fields of a frame's side information that a junction needs (ISO 11172-3, 2.4.1.7)."""
    channels = 1 if frame.side == 17 else 2
    width = frame.side * 8
    bits = int.from_bytes(stream[frame.offset + 4:frame.offset + 4 + frame.side], "big")

    def field(at: int, size: int) -> int:
        return (bits >> (width - at - size)) & ((1 << size) - 1)

    at = 9 + (5 if channels == 1 else 3) + 4 * channels  # main_data_begin, private bits, scfsi
    data_bits, last_blocks = 0, []
    for granule in range(2):
        for _ in range(channels):
            data_bits += field(at, 12)  # part2_3_length
            switching = field(at + 33, 1)  # after big_values, global_gain, scalefac_compress
            if granule == 1:
                last_blocks.append((switching, field(at + 34, 2), field(at + 36, 1)) if switching else (0, 0, 0))
            at += _GRANULE_FIELD_BITS
    return _SideInfo(field(0, 9), -(-data_bits // 8), tuple(last_blocks))


@dataclass(frozen=True)
class _Junction:
    frame: int  # the song's frame where the later part takes over
    room: int  # payload bytes free before it, after the earlier part's last kept frame's data
    reservoir: bytes  # the later part's bytes before its junction frame, where its data begin


def _junction(earlier: bytes, earlier_frames: list[_Frame], earlier_first: int,
              later: bytes, later_frames: list[_Frame], later_first: int, cut_frame: int) -> _Junction | None:
    """The first frame from `cut_frame` on where `later` can take over from `earlier` (the module's
    text); `*_first` is the song's frame each stream starts at."""
    for frame in range(cut_frame, cut_frame + SEARCH_FRAMES - SETTLED_FRAMES):
        last, taking = frame - 1 - earlier_first, frame - later_first
        if last + 1 + SETTLED_FRAMES > len(earlier_frames) or taking < 1 or taking >= len(later_frames):
            return None
        kept, joining = _side_info(earlier, earlier_frames[last]), _side_info(later, later_frames[taking])
        room = earlier_frames[last].payload + kept.data_begin - kept.data_bytes
        if joining.data_begin <= room and kept.last_blocks == _side_info(later, later_frames[taking - 1]).last_blocks:
            reservoir = b"".join(later[span] for span in _payload_before(later_frames, taking, joining.data_begin))
            return _Junction(frame, room, reservoir)
    return None


def _payload_before(frames: list[_Frame], index: int, count: int) -> list[slice]:
    """Where the last `count` payload bytes before frame `index` lie in the stream, in order."""
    spans = []
    while count > 0:
        index -= 1
        frame = frames[index]
        take = min(count, frame.payload)
        spans.append(slice(frame.offset + frame.size - take, frame.offset + frame.size))
        count -= take
    return spans[::-1]


def _spliced(streams: list[bytes], *, first_frames: list[int], cut_frames: list[int]) -> bytes | None:
    """The parts' streams as one (the module's text), or None where a junction is not found."""
    tables = [_frames(stream) for stream in streams]
    if any(table is None for table in tables):
        return None
    junctions = []
    for part, cut_frame in enumerate(cut_frames, start=1):
        junction = _junction(streams[part - 1], tables[part - 1], first_frames[part - 1],
                             streams[part], tables[part], first_frames[part], cut_frame)
        if junction is None:
            return None
        junctions.append(junction)
    takes = [0] + [junction.frame for junction in junctions]  # the song's frame each part is kept from
    out = bytearray()
    for part, (stream, table) in enumerate(zip(streams, tables)):
        begin = table[takes[part] - first_frames[part]].offset
        end = table[takes[part + 1] - first_frames[part]].offset if part + 1 < len(streams) else len(stream)
        out += stream[begin:end]
    frames = _frames(bytes(out))
    for junction in junctions:
        for span in _payload_before(frames, junction.frame, junction.room):  # the earlier part's data for frames not kept
            out[span] = bytes(span.stop - span.start)
        at = 0
        for span in _payload_before(frames, junction.frame, len(junction.reservoir)):
            out[span] = junction.reservoir[at:at + span.stop - span.start]
            at += span.stop - span.start
    return bytes(out)
