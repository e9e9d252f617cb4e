// placeholder until the task service lands
