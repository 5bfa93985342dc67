"""What to run: the sweep spec (grid, data source, parallel settings) read and checked once.

``grid`` expands the spec into RunParams; ``data_source`` checks its ``data:`` section into
the engine's load options; ``prepared`` layers the settings over the runner's arguments and
prepares a sweep once (bars, finished combos, the streamed plan) for the run and the dry run;
``yaml_reader`` is the bounded YAML reader; ``arguments`` holds the shared key and argument
checks.
"""
