"""Reads registers with pymodbus, an independent Modbus master, and prints JSON.

usage: pymodbus-read.py MODE TARGET UNIT FUNCTION ADDRESS COUNT
  MODE      tcp | rtu-over-tcp | rtu
  TARGET    host:port, or a serial device for rtu
  FUNCTION  input | holding
Prints {"registers": [...], "floats": [...]} with floats decoded big-endian, high
word first (the Eastron layout), or {"error": "...", "exception": CODE} (CODE only
for a Modbus exception reply).
"""
import json
import struct
import sys

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.framer.rtu_framer import ModbusRtuFramer

mode, target, unit, function, address, count = sys.argv[1:7]
if mode == "rtu":
    client = ModbusSerialClient(port=target, framer=ModbusRtuFramer, baudrate=9600, timeout=2)
else:
    host, port = target.rsplit(":", 1)
    framer = {"tcp": None, "rtu-over-tcp": ModbusRtuFramer}[mode]
    kwargs = {"framer": framer} if framer else {}
    client = ModbusTcpClient(host, int(port), timeout=2, **kwargs)
if not client.connect():
    print(json.dumps({"error": "connect failed"}))
    sys.exit(0)
read = client.read_input_registers if function == "input" else client.read_holding_registers
result = read(int(address), int(count), slave=int(unit))
client.close()
if result.isError():
    code = getattr(result, "exception_code", None)
    print(json.dumps({"error": str(result), **({"exception": code} if code is not None else {})}))
else:
    regs = result.registers
    floats = [struct.unpack(">f", struct.pack(">HH", regs[i], regs[i + 1]))[0] for i in range(0, len(regs) - 1, 2)]
    print(json.dumps({"registers": regs, "floats": floats}))
