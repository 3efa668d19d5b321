"""Training of Screener's shipped threat detector (``models/``) on simulated scans.

Dev-only: needs PyTorch (the ``train`` extra). Nothing in ``screener`` imports this
package. See ``training/README.md`` for the one command that rebuilds the model.
"""
