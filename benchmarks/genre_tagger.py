"""Tag audio files with musicnn's pre-trained taggers (Pons & Serra, ISMIR 2019 LBD).

The weights ship inside the `musicnn` wheel on PyPI (0.1.0): MSD_musicnn and MSD_vgg are trained
on the Million Song Dataset's 50 most frequent Last.fm tags, MTT_musicnn on MagnaTagATune's 50.
musicnn 0.1.0 pins numpy<1.17 and TensorFlow 1.x in its metadata, so it lives in its own virtual
environment, installed with --no-deps beside TensorFlow 2 (`tf.compat.v1`, with `tf-keras` for the
v1 layers):

    python3 -m venv .venv-tagger
    .venv-tagger/bin/pip install tensorflow-cpu tf-keras librosa soundfile
    .venv-tagger/bin/pip install --no-deps musicnn==0.1.0

Run by benchmarks/bench_genre.py in that environment:

    .venv-tagger/bin/python benchmarks/genre_tagger.py OUT.json MODEL [MODEL...] -- FILE [FILE...]

and writes {model: {"labels": [...], "files": {file: [mean sigmoid per label]}}}. The graph and
the log-mel front end are musicnn's own (its `models.define_model`, `configuration`); only the
loop is ours, so each model's graph is built and restored once for every file.
"""

from __future__ import annotations

import json
import os
import sys


def tag_files(*, models: list[str], files: list[str]) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.compat.v1.layers needs Keras 2 (tf-keras)
    import librosa
    import numpy as np
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    from musicnn import configuration as config
    from musicnn import models as musicnn_models
    import musicnn

    n_frames = librosa.time_to_frames(3, sr=config.SR, n_fft=config.FFT_SIZE, hop_length=config.FFT_HOP) + 1
    spectra = {}
    for path in files:
        audio, sr = librosa.load(path, sr=config.SR)
        mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE,
                                             n_mels=config.N_MELS).T
        # musicnn.extractor.batch_data computes np.log10(10000 * mel.astype(np.float16) + 1): the
        # product stays float16 and overflows to inf wherever a mel bin's power exceeds 6.55 (0.7-3 %
        # of the bins of a -14 LUFS mix), and the network's output then saturates to one vector
        # whatever the music (a 440 Hz sine, a kick loop and every genre's mix scored identically).
        # Same rounding to float16, the log taken in float32.
        mel = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)
        starts = range(0, mel.shape[0] - n_frames + 1, n_frames)  # 3 s patches, no overlap
        spectra[path] = np.stack([mel[s:s + n_frames] for s in starts]).astype(np.float32)

    result = {}
    for model in models:
        labels = config.MSD_LABELS if model.startswith("MSD") else config.MTT_LABELS
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
            is_training = tf.compat.v1.placeholder(tf.bool)
            y = musicnn_models.define_model(x, is_training, model, len(labels))[0]
            probabilities = tf.nn.sigmoid(y)
        session = tf.compat.v1.Session()
        session.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(session, os.path.join(os.path.dirname(musicnn.__file__), model) + "/")
        scores = {}
        for path, batch in spectra.items():
            taggram = session.run(probabilities, feed_dict={x: batch, is_training: False})
            scores[path] = [float(v) for v in taggram.mean(axis=0)]
        session.close()
        result[model] = {"labels": list(labels), "files": scores}
    return result


def main() -> None:
    out, rest = sys.argv[1], sys.argv[2:]
    split = rest.index("--")
    result = tag_files(models=rest[:split], files=rest[split + 1:])
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
