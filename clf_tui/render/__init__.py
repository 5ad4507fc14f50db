"""Renderings shared by the command line and the app: a comparison's table of mean ± std and its box plots."""
