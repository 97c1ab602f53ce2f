"""Evaluation: metrics, the simulator protocol and reports (docs/evaluation.md).

Modules by concern: ``temporal`` (warping error, tOF), ``structure`` (SSIM), ``realism``
(KID/FID, Inception loading, domain classifier), ``features`` (the in-project feature
network), ``segmentation`` (U-Net, mIoU), ``data`` (held-out simulator splits), ``methods``
(what is evaluated), ``protocol`` (everything for every method), ``report`` (files).
"""
