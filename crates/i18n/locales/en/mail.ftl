# The emails the service sends: subjects, then the body of each kind of message.

mail-subject-verification = Confirm your email address
mail-subject-registration-attempt = Someone tried to sign up with your email address
mail-subject-generated-password = Your new password
mail-subject-password-changed = Your password was changed
mail-subject-email-change-confirmation = Confirm your new email address
mail-subject-email-change-notice = Your email address is being changed

mail-hello = Hello { $name },
mail-hello-anonymous = Hello,
mail-copy-link = Or copy this link into your browser:
mail-signature = Catalog
mail-automatic = This message was sent automatically; replies to it are not read.

mail-verification-intro = Thank you for signing up. Please confirm your email address by opening this link:
mail-verification-button = Confirm my email
mail-verification-valid = The link is valid for 3 days. If you did not sign up, ignore this message and nothing will happen.

mail-attempt-intro = Someone tried to create an account with this email address, but it already has one.
mail-attempt-if-you = If it was you, sign in or get a new password:
mail-attempt-sign-in = Sign in
mail-attempt-new-password = Get a new password
mail-attempt-not-you = If it was not you, you can ignore this message: nothing has changed.

mail-password-intro = A new password was requested for your account:
mail-password-hour = It works for one hour. Until you use it, your old password keeps working, so if you did not ask for this you can ignore this message.
mail-password-then = After you sign in with it you will be asked to choose a password of your own.

mail-changed-intro = The password of your account was just changed, and every other session was signed out.
mail-changed-not-you = If you did not do this, get a new password right away:
mail-changed-button = Get a new password

mail-email-confirm-intro = Please confirm that this is the new email address of your account by opening this link:
mail-email-confirm-button = Confirm this address
mail-email-confirm-valid = The link is valid for 3 days. Until you confirm, your account keeps its current address.

mail-email-notice-intro = Someone asked to change the email address of your account to { $address }.
mail-email-notice-not-you = Nothing changes until the new address is confirmed. If this was not you, change your password:
mail-email-notice-button = Change my password
