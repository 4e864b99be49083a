# Starts the shared S3 test peers into DIR (ctest fixture s3_peers); tests that inject faults
# start their own fault proxy in front of moto. Usage:
#   cmake -DSERVER=tests/s3/s3_server.py -DDIR=build/s3-peers -P tests/s3/start_peers.cmake
foreach(kind moto moto-auth moto-tls s3rver)
  execute_process(COMMAND python3 ${SERVER} start --kind ${kind} --state-dir ${DIR}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "could not start S3 peer ${kind} (see ${DIR}/${kind}.log)")
  endif()
endforeach()
