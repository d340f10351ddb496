"""Carbon accounting: meter data -> cleaned series -> emissions -> intensity -> grade; alerts.

Pure computation: values in, values out (numpy, marshmallow for validating documents). The only
file I/O is in explicit ``load_*`` functions that are given a path.
"""
