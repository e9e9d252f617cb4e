// placeholder until the ttrpc sources land
