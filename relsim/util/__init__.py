"""Helpers shared by relsim's commands: safe handling of output files and folders, the app server."""
