"""Part 1, Foundations: the multi-layer perceptron, activation functions and optimizers."""
