"""Deterministic generator of realistic source extracts (BSS, CRM, call centre).

    from sqwh.generate import generate
    summary = generate(Path("landing"), "2019H1", scale="S", seed=42,
                       defects=["drop-city:CC_CALL:140300"], progress=print)

Files follow extracts.md and the registry (sources.yml): ``<out>/<system>/<ENTITY>_<YYYYMMDD>.csv``
plus ``.chk``. See pipeline.py for the run, world.py for the simulated operator, defects.py
for injectable defects.
"""

from sqwh.generate.defects import DEFECTS
from sqwh.generate.pipeline import generate
from sqwh.generate.scales import SCALES, resolve_scale
from sqwh.generate.summary import FileRecord, GenerationSummary

__all__ = ["DEFECTS", "SCALES", "FileRecord", "GenerationSummary", "generate", "resolve_scale"]
