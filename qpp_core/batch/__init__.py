"""``qpp batch``: one plugin set over many runs, on local cores or a Dask cluster.

The pieces, each in its own module:

* :mod:`.jobs`: what a job is, and reading jobs from a JSONL/CSV file or an ``@PATTERN``;
* :mod:`.settings`: what every job shares (plugins, environment, limits);
* :mod:`.child`: running one job in a forked child of a warm process (the isolation);
* :mod:`.outcome`: turning a child's end into a job record;
* :mod:`.records`: the results directory: atomic records, resume, summary;
* :mod:`.waiting`: reaping children, timeouts, killing what a job left behind;
* :mod:`.executors`: the local pool (children of this process), and the executor protocol;
* :mod:`.daskpool`: the same jobs as Dask tasks (imported only with ``--dask``);
* :mod:`.merge`: the plugins' ``qpp_batch_merge`` hooks over every record;
* :mod:`.progress`: the progress bar, or JSON lines;
* :mod:`.driver`: the batch from start to summary.
"""
