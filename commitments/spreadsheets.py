"""The one rule for CSV cells a spreadsheet would run as formulas, for every CSV we write
(the open data exports and the admin's export) and read back (the admin's import)."""

# A spreadsheet runs a cell that starts with one of these as a formula: = + - @, their
# full-width forms (which some spreadsheets fold to the ASCII ones), and tab or carriage
# return (which can hide one).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\t", "\r")


def neutralise(value):
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(value):
    """The cell as it was before neutralise(): an export imported again changes nothing."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value
