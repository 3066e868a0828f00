"""Helpers of the RNN course: `checks` for notebook tests, `oracles` for reference values,
`data` for the shipped data sets."""
