-- A copied database never talks to a real terminal: back to the vendor's sandbox, keys blanked.
UPDATE payment_provider
   SET posbridge_environment = 'vendor_sandbox',
       hesabe_access_code = NULL, hesabe_secret_key = NULL, hesabe_iv = NULL, hesabe_password = NULL,
       helcim_api_token = NULL, helcim_verifier_token = NULL
 WHERE code IN ('hesabe_pos', 'helcim_terminal');
