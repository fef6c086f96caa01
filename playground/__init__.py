"""playground: train ReLU networks on 2D problems and see their bends, regions and gradients."""

__version__ = "0.1.0"
