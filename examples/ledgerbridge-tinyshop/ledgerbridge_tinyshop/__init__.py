"""TinyShop source connector: the worked example of docs/writing-a-connector.md."""
