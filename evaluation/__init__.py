"""Detection quality: anomalies injected into real and generated days, the model and
the baselines scored on the same windows, precision / recall / F1 per type.

``anomstream evaluate`` (:mod:`evaluation.run`) is the entry point. Modules:
``injection`` (meter anomaly types), ``tickets`` (the ticket generator and
its anomalies), ``scenarios`` (where they go, windows with history),
``data`` (London data and the split), ``detectors`` (the model, as
deployed) and ``baselines``, ``metrics``, ``runner``, ``report``.
Depends on ``core`` and ``trainer``; nothing depends on it.
"""
