"""The model families, one module each; a module registers its family in ``MODELS`` and only says
how it extracts feature maps. A new family is one new module (``--model`` lists it from the registry).

The four of the paper:

* ``baseline`` [16]: one image ResNet, per-frame features, temporal aggregation.
* ``two-stream``: image and flow ResNets (same architecture, separate weights), no attention.
* ``gated-attention`` (eqs. 9-12): a shallow flow CNN gates the image features at layer l.
* ``mutual-attention`` (eqs. 1-5): image and flow streams attend each other at layer l.

``pretrained`` ImageNet weights go into every backbone stream (ResNet or MobileNetV2), the flow stream included
(cross-modality initialisation: the 3-channel flow encoding fits the RGB stem); the
gated model's flow CNN starts from scratch.
"""

from flowreid.registry import Registry
from reid.errors import ReidError

MODELS: Registry = Registry("model", "reid.models.networks", ReidError)
