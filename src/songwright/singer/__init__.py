"""The singer: espeak-ng phonemes (or pinyin) and MBROLA diphone voices sing the vocal line.

voices: the voice table; phonemes/pinyin: words -> sung syllables; casting: who sings which
word; synthesis: notes -> .pho -> MBROLA -> the vocal stem."""
