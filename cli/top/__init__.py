"""`connect-metrics top`: a live terminal view of what the job wrote to Timestream.

`store` says what is read (the newest record of each series of a table), `emulator` and
`timestream` read it from moto's stored writes or from Amazon Timestream, `snapshot` turns the
rows into one consistent view, `render` draws it as text, and `live` redraws it every second.
"""
