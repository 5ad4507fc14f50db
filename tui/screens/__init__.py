"""The app's modal screens: help, path and recall prompts, quit confirmation."""
