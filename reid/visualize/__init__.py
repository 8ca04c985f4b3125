"""Pictures of what a trained model does: ranked lists (``reid visualize ranks``, ``reid search``)
and attention maps (``reid visualize attention``). Pure numpy/OpenCV composition on RGB arrays."""
