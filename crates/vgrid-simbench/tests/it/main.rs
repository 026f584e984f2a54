mod pandapower;
