"""Using trained networks: semantic inpainting (``inpaint``), whole-image inference in tiles (``tiling``)."""
