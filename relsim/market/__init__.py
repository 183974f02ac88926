"""The market: agents, behaviour rules, operations, the two engines and the model that runs them."""
