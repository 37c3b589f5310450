"""The built-in offline model: deterministic, plugged in under the real openai client.

Always labelled "simulated" in the UI and in stored runs; it exists for demos without a key and
for reproducible tests, never as the only thing tested.
"""

from .transport import SIMULATED_MODELS, SimulatedTransport

__all__ = ["SimulatedTransport", "SIMULATED_MODELS"]
