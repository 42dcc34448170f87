from . import test_label_flow
