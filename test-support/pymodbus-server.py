"""An independent Modbus slave (pymodbus) serving SDM630-style float input registers.

usage: pymodbus-server.py tcp PORT | rtu DEVICE
Unit 1 serves the values below (IEEE-754, big-endian, high word first, as Eastron
meters do); undocumented addresses read 0. Prints "ready" once serving.
"""
import logging
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.server import StartSerialServer, StartTcpServer

logging.disable(logging.CRITICAL)

VALUES = {0: 231.5, 2: 229.0, 4: 230.5, 52: 4321.0, 70: 50.01, 72: 12345.5, 342: 12400.0}

registers = [0] * 400
for address, value in VALUES.items():
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    registers[address], registers[address + 1] = hi, lo

# zero_mode: address N is block index N (pymodbus otherwise shifts by one).
slave = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, registers), hr=ModbusSequentialDataBlock(0, [0] * 400), zero_mode=True)
context = ModbusServerContext(slaves={1: slave}, single=False)

mode, target = sys.argv[1], sys.argv[2]
print("ready", flush=True)
if mode == "tcp":
    StartTcpServer(context=context, address=("127.0.0.1", int(target)))
else:
    StartSerialServer(context=context, framer=ModbusRtuFramer, port=target, baudrate=9600, timeout=0.005)
