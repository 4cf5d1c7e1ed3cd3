/* placeholder: replaced by the OpenSSL backend */
