"""Training pipeline: data, features, train, evaluate, register.

Data comes first: ``training.simulator`` simulates documented shipment history for a new
installation and the tests, ``training.datasets`` adapts public delivery data (Olist), and
``training.schemas`` is the contract every source - simulator, adapter or Waybill's own export -
must satisfy. ``training.cli.simulate_app`` is mounted as ``waybill simulate``. See
``training/README.md``.
"""
