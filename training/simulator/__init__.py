"""Shipment-history simulator: a documented generative world for training and tests.

``simulate_history(SimulationConfig(...))`` returns the contract tables (see
``training/README.md``); ``training.simulator.io`` writes and reads them.
"""

from training.simulator.generate import History, SimulationConfig, simulate_history

__all__ = ["History", "SimulationConfig", "simulate_history"]
