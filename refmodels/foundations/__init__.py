"""Part 1, Foundations: the multi-layer perceptron, activation functions, optimizers,
normalization layers and the LSTM. Import a module directly, or use
``refmodels.create_model`` for the registered families."""
