"""The Playground's network as code to paste into a notebook: Keras and plain JAX.

Text only, never run here. Both snippets read the trained weights from the Playground's
model file (``core.modelfile``: ``W0, b0, ..., Wk, bk`` with Wi of shape (fan_in,
fan_out)), which is exactly how Keras stores a ``Dense`` layer's kernel and bias. The
feature and activation tables below must cover the registries (a test checks), and the
JAX snippet, executed, must reproduce the app's predictions (another test).
"""

from playground.core.features import FEATURES
from playground.core.model import ACTIVATIONS, LEAKY_RELU_SLOPE
from playground.core.modelfile import SavedModel
from playground.core.train import ModelSpec, output_size

# Feature name -> the expression that computes it from the columns x1, x2 ("{np}" is
# numpy's or jax.numpy's module name).
FEATURE_CODE = {
    "x1": "x1",
    "x2": "x2",
    "x1sq": "x1 ** 2",
    "x2sq": "x2 ** 2",
    "x1x2": "x1 * x2",
    "sinx1": "{np}.sin(x1)",
    "sinx2": "{np}.sin(x2)",
}
# Activation name -> a JAX function, and Keras's own spelling (a name or a function;
# Keras's GELU is exact by default and its leaky ReLU has slope 0.2, ours differ).
JAX_ACTIVATIONS = {
    "relu": "jax.nn.relu",
    "leaky_relu": f"lambda z: jax.nn.leaky_relu(z, {LEAKY_RELU_SLOPE})",
    "tanh": "jnp.tanh",
    "sigmoid": "jax.nn.sigmoid",
    "linear": "lambda z: z",
    "gelu": "jax.nn.gelu",  # tanh approximation, as the Playground
}
KERAS_ACTIVATIONS = {
    "relu": '"relu"',
    "leaky_relu": f"lambda z: keras.activations.leaky_relu(z, negative_slope={LEAKY_RELU_SLOPE})",
    "tanh": '"tanh"',
    "sigmoid": '"sigmoid"',
    "linear": "None",
    "gelu": "lambda z: keras.activations.gelu(z, approximate=True)",
}
# Task -> what the last layer's outputs become, in JAX and as a Keras activation.
OUTPUTS = {
    "binary": ("jax.nn.sigmoid(logits[:, 0])", '"sigmoid"', "P(class 1)"),
    "multiclass": ("jax.nn.softmax(logits, axis=-1)", '"softmax"', "class probabilities"),
    "regression": ("logits[:, 0]", "None", "the predicted value"),
}
EXAMPLE_POINTS = "[[1.0, 2.0], [-3.0, 4.0]]"


def model_file_name(problem: str) -> str:
    """The name the Playground gives a downloaded model (``Model (.npz)``)."""
    return f"playground-{problem}.npz"


def spec_of(saved: SavedModel) -> ModelSpec:
    """The network a model file describes (its task from the file, else from its size)."""
    n_out = int(saved.params[-1][0].shape[1])
    task = saved.meta.get("task") or ("binary" if n_out == 1 else "multiclass")
    n_classes = int(saved.meta.get("n_classes") or (n_out if task == "multiclass" else 2))
    return ModelSpec(tuple(saved.features), saved.hidden, saved.activation, task, n_classes)


def _describe(spec: ModelSpec) -> str:
    sizes = "-".join(map(str, spec.sizes))
    if not spec.hidden:
        return f"A {sizes} linear model (no hidden layer)"
    return f"A {sizes} network of {ACTIVATIONS[spec.activation].label} layers"


def _features_function(spec: ModelSpec, np_name: str) -> str:
    columns = ", ".join(FEATURE_CODE[f].format(np=np_name) for f in spec.features)
    names = ", ".join(FEATURES[f].label for f in spec.features)
    return (
        "def features(points):\n"
        f'    """What the network sees of each point (x1, x2): {names}."""\n'
        "    x1, x2 = points[:, 0], points[:, 1]\n"
        f"    return {np_name}.stack([{columns}], axis=1)\n"
    )


def jax_code(spec: ModelSpec, file_name: str, problem: str = "", *, example=True) -> str:
    """Plain JAX: load the .npz, compute the features, run the layers, squash the output.
    ``example``: end with a line that prints two predictions."""
    n_layers = len(spec.sizes) - 1
    final, _, meaning = OUTPUTS[spec.task]
    where = f" (problem: {problem})" if problem else ""
    return (
        f"# {_describe(spec)} from the Playground{where}, in plain JAX.\n"
        f"# pip install jax numpy, and put {file_name} next to this notebook.\n"
        "import jax\n"
        "import jax.numpy as jnp\n"
        "import numpy as np\n"
        "\n"
        f'model_file = np.load("{file_name}", allow_pickle=False)\n'
        f"n_layers = {n_layers}  # {len(spec.hidden)} hidden + the output layer\n"
        "# One (W, b) per layer; W has shape (inputs, units).\n"
        'params = [(jnp.asarray(model_file[f"W{i}"]), jnp.asarray(model_file[f"b{i}"]))\n'
        "          for i in range(n_layers)]\n"
        f"activation = {JAX_ACTIVATIONS[spec.activation]}\n"
        "\n"
        "\n"
        f"{_features_function(spec, 'jnp')}"
        "\n"
        "\n"
        "def predict(params, points):\n"
        f'    """{meaning[0].upper() + meaning[1:]} for each point; points: shape (N, 2)."""\n'
        "    h = features(points)\n"
        "    for w, b in params[:-1]:\n"
        "        h = activation(h @ w + b)\n"
        "    w, b = params[-1]\n"
        "    logits = h @ w + b\n"
        f"    return {final}\n"
        + (f"\n\nprint(predict(params, jnp.array({EXAMPLE_POINTS})))\n" if example else "")
    )


def keras_code(spec: ModelSpec, file_name: str, problem: str = "") -> str:
    """A Keras ``Sequential`` of ``Dense`` layers with the file's weights."""
    _, out_activation, meaning = OUTPUTS[spec.task]
    where = f" (problem: {problem})" if problem else ""
    act = KERAS_ACTIVATIONS[spec.activation]
    # A function is named once above the model; a name Keras knows goes inline.
    own = spec.hidden and not act.startswith('"') and act != "None"
    define = f"hidden_activation = {act}\n" if own else ""
    act = "hidden_activation" if own else act
    names = ", ".join(FEATURES[f].label for f in spec.features)
    lines = [f"    keras.Input(shape=({len(spec.features)},)),  # {names}"]
    for i, width in enumerate(spec.hidden):
        lines.append(f"    layers.Dense({width}, activation={act}),  # hidden layer {i + 1}")
    n_out = output_size(spec.task, spec.n_classes)
    lines.append(f"    layers.Dense({n_out}, activation={out_activation}),  # output: {meaning}")
    keys = ", ".join(f'"{k}{i}"' for i in range(len(spec.sizes) - 1) for k in "Wb")
    return (
        f"# {_describe(spec)} from the Playground{where}, in Keras.\n"
        f"# pip install keras (with JAX, TensorFlow or PyTorch), and put {file_name} next to\n"
        "# this notebook.\n"
        "import keras\n"
        "import numpy as np\n"
        "from keras import layers\n"
        "\n"
        f'model_file = np.load("{file_name}", allow_pickle=False)\n'
        f"{define}"
        "model = keras.Sequential([\n" + "\n".join(lines) + "\n])\n"
        "# Keras keeps a kernel of shape (inputs, units) and a bias per Dense layer, in order:\n"
        "# exactly the file's W0, b0, W1, b1, ...\n"
        f"model.set_weights([model_file[k] for k in [{keys}]])\n"
        "\n"
        "\n"
        f"{_features_function(spec, 'np')}"
        "\n"
        "\n"
        f'points = np.array({EXAMPLE_POINTS}, dtype="float32")\n'
        "print(model.predict(features(points)))\n"
    )
