"""The process definitions (pathways) shipped with Lotse, as YAML files."""
