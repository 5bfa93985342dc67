"""What to run: the sweep spec (grid, data source, parallel settings) read and checked once.

``grid`` expands the spec into RunParams; ``yaml_reader`` is the bounded YAML reader;
``arguments`` checks the Python API's arguments by type.
"""
