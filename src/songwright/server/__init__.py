"""The HTTP service: `songwright serve` (FastAPI) and `songwright worker` (RQ on Redis).

A thin client of the library: it builds a SongRequest, asks `songwright.engines.check` whether it
can be made, queues it, runs it on an engine and hands back files. No music logic lives here.
Needs the `server` extra: pip install "songwright[server]".
"""
