"""The HTTP surface's pure parts: chat command syntax, rate limits, metric families,
answers and health reports as data. No I/O: the web adapter renders them."""
