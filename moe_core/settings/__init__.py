"""What a run is: the table of options, the run configuration as one JSON document, the registries
and the named choices. No torch here, so that listing and validating settings start at once."""
