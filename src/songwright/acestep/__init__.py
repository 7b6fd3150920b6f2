"""The ACE-Step v1 engine: our own implementation of its inference pipeline.

Everything here needs the `neural` extra (torch, diffusers, transformers):
`pip install -e ".[neural]"`. The composer engine never imports this package.
"""
