"""The models built from the MoE layer: the model of points (the layer alone, or its dense baseline with
the same parameter count) and its weights as a file. A second family (a transformer whose blocks
hold the layer) goes beside `points`."""
