"""PNG charts drawn with Pillow (already a dependency): training curves (``mmrl plot``) and the
text helper every mmrl chart uses."""
