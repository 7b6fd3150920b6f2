"""MP3 encoded in parts on two cores and spliced (audio/mp3.py): a stream that decodes to what
one encoder's stream decodes to, as well encoded at every junction, the same bytes on any
machine."""

import io

import numpy as np
import pytest
import soundfile as sf

from songwright.audio import mp3

SAMPLE_RATE = 44100
DECODER_DELAY = 1105  # LAME's encoder delay (576) and the decoder's (529): the decoded song starts this late


def decoded(stream: bytes) -> np.ndarray:
    audio, rate = sf.read(io.BytesIO(stream), dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE
    return audio


def frame_errors(stream: bytes, source: np.ndarray) -> np.ndarray:
    """The coding error's energy over the source's in each frame of the decoded stream."""
    audio = decoded(stream)[DECODER_DELAY:DECODER_DELAY + len(source)]
    frames = len(source) // mp3.FRAME_SAMPLES
    shape = (frames, mp3.FRAME_SAMPLES * source.shape[1])
    error = ((audio - source)[:frames * mp3.FRAME_SAMPLES] ** 2).reshape(shape).sum(axis=1)
    return error / np.maximum((source[:frames * mp3.FRAME_SAMPLES] ** 2).reshape(shape).sum(axis=1), 1e-12)


@pytest.fixture(scope="module")
def music(seed_song) -> np.ndarray:
    return np.ascontiguousarray(seed_song.audio[:30 * SAMPLE_RATE])


@pytest.fixture(scope="module")
def whole(music) -> bytes:
    return mp3._encoded(music, SAMPLE_RATE)


@pytest.fixture(scope="module")
def split(music) -> tuple[bytes, list[int]]:
    """The music in six parts (five junctions), and the frames where the later parts took over."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mp3, "PART_S", 5.0)
        cuts = mp3.part_cuts(samples=len(music), sample_rate=SAMPLE_RATE)
        return mp3.encode_mp3(music, SAMPLE_RATE), [cut // mp3.FRAME_SAMPLES for cut in cuts[1:-1]]


def test_parts_are_cut_on_the_frame_grid_the_same_on_every_machine():
    assert mp3.part_cuts(samples=5 * SAMPLE_RATE, sample_rate=SAMPLE_RATE) == [0, 5 * SAMPLE_RATE]
    minute = mp3.part_cuts(samples=60 * SAMPLE_RATE, sample_rate=SAMPLE_RATE)
    assert len(minute) == 3 and minute[1] % mp3.FRAME_SAMPLES == 0 and abs(minute[1] - 30 * SAMPLE_RATE) < mp3.FRAME_SAMPLES
    assert len(mp3.part_cuts(samples=600 * SAMPLE_RATE, sample_rate=SAMPLE_RATE)) == 11


def test_a_spliced_stream_decodes_like_one_encoders_stream(music, whole, split):
    stream, cut_frames = split
    assert len(cut_frames) == 5
    one, spliced = decoded(whole), decoded(stream)
    assert spliced.shape == one.shape
    differs = np.flatnonzero(np.abs(one - spliced).max(axis=1) > 0)
    assert cut_frames[0] * mp3.FRAME_SAMPLES <= differs[0] < (cut_frames[0] + mp3.SEARCH_FRAMES) * mp3.FRAME_SAMPLES, \
        "up to the first junction it is one encoder's stream"
    whole_errors, split_errors = frame_errors(whole, music), frame_errors(stream, music)
    assert 10 * np.log10(whole_errors.mean()) < -15, "the decoded stream lines up with the source"
    assert split_errors.mean() == pytest.approx(whole_errors.mean(), rel=0.1)
    for cut in cut_frames:  # a broken junction decodes to noise (or is skipped) where the parts meet
        near = slice(cut - 2, cut + mp3.SEARCH_FRAMES)
        assert split_errors[near].max() < 2 * whole_errors[near].max(), f"the junction after frame {cut}"


def test_the_splice_is_the_same_bytes_on_one_core_and_twice(music, split, monkeypatch):
    monkeypatch.setattr(mp3, "PART_S", 5.0)
    monkeypatch.setattr(mp3.os, "cpu_count", lambda: 1)
    assert mp3.encode_mp3(music, SAMPLE_RATE) == split[0]


def test_without_a_junction_the_song_is_encoded_whole(music, whole, monkeypatch):
    monkeypatch.setattr(mp3, "SEARCH_FRAMES", mp3.SETTLED_FRAMES)  # no frame left to search
    assert mp3.encode_mp3(music, SAMPLE_RATE) == whole


def test_side_information_is_read_where_the_standard_puts_it(music, whole):
    """Each frame's data lie within the payload bytes before its end, after the frame before it's;
    clicks make the encoder switch to short blocks, a tone faded in and out never does."""
    frames = mp3._frames(whole)
    assert len(frames) == -(-(len(music) + 576) // mp3.FRAME_SAMPLES) + 1
    position, end = 0, 0
    for frame in frames:
        side = mp3._side_info(whole, frame)
        assert 0 <= side.data_begin <= 511 and position - side.data_begin >= end
        end = position - side.data_begin + side.data_bytes
        position += frame.payload
        assert end <= position
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    faded = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.5)  # no edge for the encoder to hear as a click
    tone = np.repeat((0.3 * faded * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1).astype(np.float32)
    clicks = np.zeros_like(tone)
    clicks[::SAMPLE_RATE // 4] = 0.9
    for audio, short in ((tone, False), (clicks, True)):
        stream = mp3._encoded(audio, SAMPLE_RATE)
        blocks = [block for frame in mp3._frames(stream) for block in mp3._side_info(stream, frame).last_blocks]
        assert all((block_type != 0) == switching for switching, block_type, _ in blocks), "switched blocks are never long"
        assert any(block_type == 2 for _, block_type, _ in blocks) == short
        assert any(switching for switching, _, _ in blocks) == short


def test_a_junction_waits_until_both_encoders_chose_the_same_blocks():
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    tone = np.repeat((0.3 * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1).astype(np.float32)
    clicks = tone.copy()
    clicks[::SAMPLE_RATE // 4] = 0.9
    earlier, later = mp3._encoded(tone, SAMPLE_RATE), mp3._encoded(clicks, SAMPLE_RATE)
    earlier_frames, later_frames = mp3._frames(earlier), mp3._frames(later)

    def blocks(stream, frames, frame):
        return mp3._side_info(stream, frames[frame]).last_blocks

    short = [frame for frame in range(40, 150)
             if blocks(later, later_frames, frame - 1) != blocks(earlier, earlier_frames, frame - 1)]
    assert short, "the clicks made short blocks where the tone has long ones"
    for cut in short:
        junction = mp3._junction(earlier, earlier_frames, 0, later, later_frames, 0, cut)
        assert junction is not None and junction.frame > cut
        assert blocks(later, later_frames, junction.frame - 1) == blocks(earlier, earlier_frames, junction.frame - 1)
