"""gru_lib: a Gated Recurrent Unit and backpropagation through time in NumPy."""
