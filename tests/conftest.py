import os
import sys
import tempfile
from pathlib import Path

# Make tests/helpers.py importable as ``helpers`` from every test directory.
sys.path.insert(0, str(Path(__file__).parent))
# Keep the parse cache of test runs (and of the subprocesses they start) out of ~/.cache.
os.environ.setdefault("MIGCHECK_CACHE_DIR", tempfile.mkdtemp(prefix="migcheck-cache-"))
