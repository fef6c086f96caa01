"""Benchmarks, side by side in one run: ``python -m playground.bench [names] [--quick] [--json]``.

With no names it measures what a learner feels, each against a yardstick timed in the
same run (machines and their load differ, so only figures taken together compare):

- ``train``: steps/s of the project's training chunk vs PyTorch eager (when ``torch``
  imports; ``pip install -e '.[bench]'``) vs a plain NumPy MLP written by hand
  (``playground.reference``), on 2->8->8->1 with Adam and a full batch of 1000 points, and
  in TensorFlow Playground's setting (xor, 8-8 ReLU, batch 10, 250 points: epochs/s);
- ``roofline``: a 256x4 network (batch 1000): GFLOP/s of its matrix products against this
  machine's float32 matrix-multiply peak (the best of JAX, NumPy and PyTorch on square
  matrices), measured in the same run;
- ``compile``: the first compile of a chunk in a new process, without and with the
  persistent cache; a "slider change" to a new width in a warm process, with the shape
  compiled ahead (``live.server.precompile.precompile``) and without;
- ``frame``: one live picture as the server makes it (output grid, exact bends, wire
  encoding): milliseconds and bytes; and the trainer with pictures (epochs/s, pictures/s).

Also by name: ``sweep`` (vmapped networks vs one by one), ``cohort`` (a class's runs of one
shape in one call vs one call each) and ``partition`` (exact regions).

Every benchmark is a function registered with ``@benchmark("name")``: it takes ``repeats``
(timed rounds per median) and ``mode`` ("full", "quick" or "smoke": smaller problems, a
shorter run) and returns a flat dict of numbers, each key saying its unit (``_s``, ``_ms``,
``_per_s``, ``_x`` for a ratio of two figures from the same rounds). Contenders are
timed in turn, round after round (A B C A B C ...), so a change of the machine's speed
hits all of them; ratios are medians of per-round ratios. ``load_avg_1m`` says how busy
the machine was. ``--json`` prints one JSON line last: the headline figures
(``HEADLINE``), the device, and every benchmark's dict under ``benchmarks``.

Modules: ``timing`` (the registry and the side-by-side rounds), one per benchmark
(``train``, ``roofline``, ``compiling``, ``frame``, ``sweep``), ``cli``.
"""
