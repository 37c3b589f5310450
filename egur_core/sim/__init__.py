"""The built-in offline model: deterministic, plugged in under the real openai client.

Always labelled "simulated" in the UI and in stored runs; it exists for demos without a key and
for reproducible tests, never as the only thing tested.

Layer: above ``evals`` (it reads datasets and the roles' prompts to play them); only the composition
root (``egur_core.app.services``) plugs its transport into the model client.
"""

import hashlib
from functools import cache
from pathlib import Path

from egur_core.sim.transport import SIMULATED_MODELS, SimulatedTransport


@cache
def simulator_fingerprint() -> str:
    """Changes whenever the simulator's code does: recorded replies of an older simulator are not
    replayed as if this one had given them (the response cache keys on it)."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


__all__ = ["SimulatedTransport", "SIMULATED_MODELS", "simulator_fingerprint"]
