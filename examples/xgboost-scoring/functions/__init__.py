"""Handler code for the two functions of the xgboost-scoring example.

- ``functions.features.handler``: feature extraction (FE), ``GET /features?entity=...``;
  needs the *features* layer (pandas, numpy, pymysql).
- ``functions.scoring.handler``: scoring (ML), ``POST /score``; needs the *scoring* layer
  (xgboost-cpu, pandas, numpy, scipy, joblib).

Modules import only what their own function's layer holds, so each function deploys with this
same package and its own layer. boto3 comes from the Lambda runtime.
"""
